"""Running pipelinejobs on one machine: helpers for the embedded stack, tests and benchmarks."""
