# Sourced by demo.sh, test.sh and the benches: closes every descriptor above 2 that this shell inherited and would
# hand on to what it starts. CI runners, IDEs and service managers often leave such descriptors open (a pipe on fd
# 251, say); a program started from here would inherit it, and a pipe whose other end a process does not hold is a
# reason it cannot move. Descriptors marked close-on-exec (bash's own copy of the script, for one) reach no child and
# are left alone. $BASHPID, not $$: sourced in a subshell, $$ would name the parent shell and its descriptors.
close_inherited_fds() {
  local entry fd flags
  for entry in /proc/$BASHPID/fd/*; do
    fd=${entry##*/}
    ((fd > 2)) || continue
    flags=$(awk '/^flags:/ {print $2}' "/proc/$BASHPID/fdinfo/$fd" 2>/dev/null) || continue
    [[ -n "$flags" ]] || continue
    # O_CLOEXEC is octal 02000000 in the flags line of fdinfo.
    (( (8#$flags & 8#2000000) == 0 )) || continue
    eval "exec $fd>&-"
  done
}
close_inherited_fds
