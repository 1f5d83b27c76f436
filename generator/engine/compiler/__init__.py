"""The DAX compiler: DAX AST + Schema → SQL skeleton with logical-plan leaves.

Pure: it reads the read-only `Schema` and never imports the optimizer, a renderer or the
runtime (tests/test_layers.py). `core` is the dispatch and the shared machinery, the
`fn_*` modules are handler families, `query` combines them into `Compiler`."""
