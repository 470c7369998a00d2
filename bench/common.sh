# Shared by the benchmark scripts (source it after setting $om and $lab): timing, ratios and medians of numbers
# given as arguments, and the lab the script runs in.
now() { date +%s.%N; }
# since START -> seconds from START (a `now`) until now
since() { awk -v s="$1" -v e="$(now)" 'BEGIN{printf "%.2f", e-s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# lab_up ARGS... -> a fresh lab named $lab (an old one of that name removed first)
lab_up() { "$om" lab down --name "$lab" > /dev/null 2>&1 || true; "$om" lab up --name "$lab" "$@" > /dev/null; }
in_node() { "$om" lab exec --name "$lab" 1 -- "$@"; }
