# bash completion for om and its classic names (printed by `om completion bash`).
# The suggestions come from om itself (`om complete`), so they follow whatever om version is installed.
_om_complete()
{
    local om=om
    # A command typed with a path to om (./artifacts/bin/om) asks that om; links by classic name sit beside om on PATH.
    [[ ${COMP_WORDS[0]} == */om ]] && om=${COMP_WORDS[0]}
    local IFS=$'\n'
    COMPREPLY=($(command "$om" complete -- "${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null))
}
# -o default: where om suggests nothing (a program after mosrun, an image file), bash completes file names.
complete -o default -F _om_complete @NAMES@
