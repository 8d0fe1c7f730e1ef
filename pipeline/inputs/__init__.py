"""Raw inputs as users receive them: Caf open-data exports (`caf`), local follow-up sheets (`suivi`), shared
reading rules (`common`: encodings, separators, numbers, XLSX header offset, `InputError`) and the shared
vocabularies of the sheets (`vocabulary`, from `metadata/vocabulaire.yaml`). The user contract is docs/donnees.md.
"""

from pipeline.inputs.caf import read_caf, read_caf_file
from pipeline.inputs.common import InputError
from pipeline.inputs.suivi import read_sheet, read_suivi, suivi_years
from pipeline.inputs.vocabulary import load_vocabulary

__all__ = ["InputError", "load_vocabulary", "read_caf", "read_caf_file", "read_sheet", "read_suivi", "suivi_years"]
