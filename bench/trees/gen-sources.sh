#!/usr/bin/env bash
# Generates a C code base for make -j benchmarks and tests: N translation units of F functions each (enough work for
# the optimiser that one unit takes about a second or more of cc1), a main, and a Makefile that links them.
# usage: gen-sources.sh DIR [N=8] [F=300]
set -euo pipefail
dir=$1 n=${2:-8} f=${3:-300}
mkdir -p "$dir"
for ((u = 0; u < n; u++)); do
  {
    echo "#include <stdint.h>"
    for ((i = 0; i < f; i++)); do
      cat <<C
uint64_t u${u}_f$i(uint64_t x, const uint64_t *v, int n) {
  uint64_t a = x ^ ${i}u, b = 0x9e3779b97f4a7c15ull + $u;
  for (int k = 0; k < n; k++) { a = (a * 6364136223846793005ull + v[k]) ^ (a >> 29); b += a * (uint64_t)(k + $i); if ((a & 7) == $((i % 8))) b ^= b << 13; }
  switch ((int)(a % 5)) { case 0: b += a / 3; break; case 1: b ^= a * 7; break; case 2: b -= a << 2; break; default: b += v[n / 2]; }
  return a + b;
}
C
    done
    echo "uint64_t unit$u(uint64_t x, const uint64_t *v, int n) { uint64_t s = 0;"
    for ((i = 0; i < f; i++)); do echo "  s += u${u}_f$i(x + s, v, n);"; done
    echo "  return s; }"
  } > "$dir/unit$u.c"
done
{
  echo "#include <stdint.h>"
  echo "#include <stdio.h>"
  for ((u = 0; u < n; u++)); do echo "uint64_t unit$u(uint64_t, const uint64_t *, int);"; done
  echo "int main(void) { uint64_t v[16], s = 0; for (int i = 0; i < 16; i++) v[i] = i * 2654435761u;"
  for ((u = 0; u < n; u++)); do echo "  s += unit$u(s, v, 16);"; done
  echo "  printf(\"%llu\\n\", (unsigned long long)s); return 0; }"
} > "$dir/main.c"
objs=$(for ((u = 0; u < n; u++)); do printf 'unit%d.o ' "$u"; done)
printf 'CFLAGS = -O2\nprogram: main.o %s\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\nclean:\n\trm -f *.o program\n' "$objs" > "$dir/Makefile"
