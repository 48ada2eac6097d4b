# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Dashboards per role (board.xml, view/board_*.xml): no model of their
own, they embed actions of the analyses and of the other modules.

- The channel manager's: the network's sell-in by month (the sell-in
  analysis's time series, analysis.py, with its filters), the attainment
  of the targets of the period (distributor_assessment's confirmed
  current targets), the tier change proposals waiting for a decision, the
  orders, channel orders and expense claims to approve, the open stock
  alerts, the overdue distributors and the open price and diversion
  incidents.
- The sales rep's: the same but the proposals, each limited to its
  territories by the record rules and the analysis's reach.
- The accountant's: receivables by tier and by territory, the overdue
  distributors and the statements sent or disputed."""
