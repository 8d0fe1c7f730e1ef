"""The annual report set's own pages, computed from the processed tables through `pipeline.report` (no indicator
recomputed, nothing executed): synthesis, COPIL page, residents' letter, glossary, methodology, annexes.

    donnees.py    Bilan: one Contexte per thématique for the year, loaded once (`charger`)
    feux.py       traffic lights of the key indicators (rules: params.yaml `copil.feu`)
    suivi.py      roadmap progress, and the roadmap as known at the end of a semester
    alertes.py    alerts and the questions they raise for the committee
    synthese.py   synthesis chapter (index.html) and what it shares with the COPIL page
    copil.py      one-page COPIL support (A4 landscape), annual or per semester
    lettre.py     residents' e-letter (HTML for e-mail, string.Template)
    glossaire.py  acronyms: glossary chapter, plain-language expansion
    chapitres.py  methodology, social impact, data quality, roadmaps annex
    site.py       pages and navigation menu
    titres.py     chapters and heading levels for the annual PDF

`pipeline.assemble.build_report_set` renders them all.
"""
