"""Entry points of ks-engine: the `ks` command line, which wires the core through bootstrap."""
