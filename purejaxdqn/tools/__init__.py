"""What a user runs on top of the library: the command line (`cli`, `fieldparse`),
watching a trained agent (`watch`, `players`, `render`), learning curves (`plot`,
`stats`)."""
