#compdef samplectl

_samplectl_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _SAMPLECTL_COMPLETE=complete_zsh samplectl)
}

compdef _samplectl_completion samplectl
