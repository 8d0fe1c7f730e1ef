"""The evaluator's yearly round trip: prefilled XLSX workbooks for a new year, and what is still missing.

- `create_year(layout, annee)` writes `suivi/<annee>/{equipements,activite,actions,financements}.xlsx`,
  prefilled from the referential and from the most recent earlier year (`ctg nouvelle-annee`); it never
  overwrites a file.
- `year_status(layout, annee)` lists what is missing or incomplete in a year's sheets (`ctg statut`).

Each workbook holds the data sheet first (the readers of `pipeline.inputs.suivi` read the first sheet), then an
« Instructions » sheet and a « Vocabulaire » sheet feeding the dropdowns.
"""

from pipeline.workbooks.create import NewYear, create_year
from pipeline.workbooks.status import StatusItem, year_status

__all__ = ["NewYear", "StatusItem", "create_year", "year_status"]
