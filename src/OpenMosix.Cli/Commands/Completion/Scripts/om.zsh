#compdef @NAMES@
# zsh completion for om and its classic names (printed by `om completion zsh`; save it as _om in a directory of
# $fpath, or source it after compinit). The suggestions come from om itself (`om complete`).
_om()
{
    local om=om
    [[ ${words[1]} == */om ]] && om=${words[1]}
    local -a suggestions
    suggestions=("${(@f)$(command $om complete -- "${(@)words[1,CURRENT]}" 2>/dev/null)}")
    suggestions=(${suggestions:#})
    if (( ${#suggestions} )); then
        compadd -Q -- "${suggestions[@]}"
    else
        _files
    fi
}
if [[ ${funcstack[1]} == _om ]]; then
    _om "$@"
else
    compdef _om @NAMES@
fi
