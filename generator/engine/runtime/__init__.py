"""The runtime: an opened model (`Engine`), its data, calculated columns and tables,
security, the lowering of compiled statements (optimize → render) and the backends
that execute them."""
