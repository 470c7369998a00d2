// Three lab test classes at a time rather than one per core: a lab test spends most of its time waiting for
// processes in its own namespaces (moves, timeouts, partitions), and with two at a time the lab tests alone took
// 15 of the suite's 21 minutes on these 2-core machines (docs/testing.md). Each test runs its own uniquely named lab,
// so more of them at once share nothing but the machine.
[assembly: Xunit.v3.Parallelization(MaxThreads = 3)]
