"""Review a change: what a model edit reaches and what its numbers were and become.

Modules, one idea each:

* `graph`     the dependency graph of tables, columns, measures and visuals;
* `snapshot`  a model version from a git ref or a folder (never touching the work tree);
* `modeldiff` the structural difference of two models (added, removed, changed);
* `values`    before/after values of the measures a change reaches, on the same data;
* `render`    a diff as a rich table, Markdown (a pull-request comment) or JSON;
* `lineage`   upstream and downstream of one object, as a tree or JSON;
* `dictionary`, `diagram`, `html`  the data dictionary (Markdown, SVG, one HTML page);
* `coverage`  which measures no test reaches and which the engine cannot compile;
* `commands`  the `diff`, `docs` and `lineage` subcommands.

Only the engine's public API (`Engine`, `.query`) and the spec/dax layers are used.
"""
