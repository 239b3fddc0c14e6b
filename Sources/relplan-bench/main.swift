// Benchmarks live in scripts/bench; this executable measures the pure parts in-process.
print("relplan-bench: see scripts/bench")
