"""Reports for supervisors: figures per unit and district, a PNG chart, an .xlsx or CSV ledger (台账) and text.

``model.build_report`` computes the figures (queries in ``storage.reports``); ``chart``, ``ledger`` and ``text``
render them. Definitions of every figure are in ``model``'s docstring.
"""
