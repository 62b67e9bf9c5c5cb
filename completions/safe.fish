complete --keep-order --exclusive --command safe --arguments "(COMPLETE=fish safe -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
