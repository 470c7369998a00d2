# fish completion for om and its classic names (printed by `om completion fish`; save it as om.fish in a
# completions directory). The suggestions come from om itself (`om complete`).
function __om_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l om om
    string match -q -- '*/om' $words[1]; and set om $words[1]
    set -l suggestions (command $om complete -- $words 2>/dev/null)
    if set -q suggestions[1]
        printf '%s\n' $suggestions
    else
        __fish_complete_path (commandline -ct)
    end
end
for name in @NAMES@
    complete -c $name -f -a '(__om_complete)'
end
