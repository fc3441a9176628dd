#!/usr/bin/env python3
"""Sums the CPU seconds a build spent per program and per kind of command, from the log that
scripts/time_command.sh writes (one line per compile or link: user, system, wall seconds, peak kB,
output file).

Usage: python3 scripts/build_times.py LOG [LOG...]
Prints each program's compile and link CPU seconds (user + system), largest first, then the
totals; an object file is counted to the program whose CMakeFiles/<program>.dir it is in.
"""
import collections
import re
import sys


def program_of(output):
    match = re.search(r"CMakeFiles/([^/]+)\.dir/", output)
    if match:
        return match.group(1)
    return output.rsplit("/", 1)[-1]


def main():
    compile_cpu = collections.Counter()
    link_cpu = collections.Counter()
    peak = collections.Counter()
    units = collections.Counter()
    for path in sys.argv[1:]:
        with open(path) as log:
            for line in log:
                fields = line.split(maxsplit=4)
                if len(fields) != 5 or not re.fullmatch(r"[0-9.]+", fields[0]):
                    continue  # a message of /usr/bin/time, e.g. "Command exited with non-zero status"
                user, system, _, kilobytes, output = fields
                output = output.strip()
                cpu = float(user) + float(system)
                program = program_of(output)
                if output.endswith(".o"):
                    compile_cpu[program] += cpu
                    units[program] += 1
                else:
                    link_cpu[program] += cpu
                peak[program] = max(peak[program], int(kilobytes))
    programs = sorted(set(compile_cpu) | set(link_cpu),
                      key=lambda p: -(compile_cpu[p] + link_cpu[p]))
    print(f"{'program':32} {'objects':>7} {'compile s':>10} {'link s':>8} {'peak MB':>8}")
    for program in programs:
        print(f"{program:32} {units[program]:7d} {compile_cpu[program]:10.1f} "
              f"{link_cpu[program]:8.1f} {peak[program] / 1024:8.0f}")
    total_compile = sum(compile_cpu.values())
    total_link = sum(link_cpu.values())
    print(f"{'total':32} {sum(units.values()):7d} {total_compile:10.1f} {total_link:8.1f}")
    print(f"CPU seconds {total_compile + total_link:.0f}: about "
          f"{(total_compile + total_link) / 2 / 60:.1f} minutes on 2 cores")


if __name__ == "__main__":
    main()
