"""`build.py preview`: the report as offline HTML pages, drawn with the engine's values.

report.py reads the built PBIR (positions, titles, theme: the files are the truth),
formatting.py formats values with the engine's FORMAT, views.py turns one visual's rows
into what the page draws, render.py writes the pages, server.py serves them with live
slicers and a watch on the YAML.
"""
