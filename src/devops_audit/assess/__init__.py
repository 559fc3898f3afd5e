"""The CAICT assessment pack: every evidence code of the checklist decided from a scan, with generated artefacts.

`mapping` loads the code map, `artefacts` (with `tables` and `charts`) writes the evidence drawn from the facts,
`decide` gives each item its status and each sub-item its level, `pack` writes manifest, `index` and `workbook`.
"""
