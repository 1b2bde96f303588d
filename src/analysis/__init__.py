"""Sales-team analytics: the package behind the report notebooks.

Modules, one concept each: ``contracts`` (table specs), ``ingest`` (files → store),
``store`` (Ibis backends), ``demo`` (the demo world), ``trends`` / ``launch`` /
``retention`` (metrics of the three reports, as Ibis expressions), ``stats``,
``charts``, ``narrative``, ``display`` (safe HTML in notebooks), ``recorder``
(metrics.json), ``params`` (report parameter models), ``reports`` (running and
exporting), ``cli`` and ``errors``.
"""

__version__ = "0.1.0"
