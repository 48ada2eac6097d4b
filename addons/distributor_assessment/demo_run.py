# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's assessment: one run of last month with the shipped standard
template over every active distributor, computed, one score adjusted with
a reason, reviewed and approved (the grades written on the distributors),
with its tier change proposals: the first refused with a reason, the
others left to the channel manager.

Only the generator imports this file (through demo.py)."""
import datetime as dt

from distributor.access import trusted
from distributor.demo import Part


def assessment(demo):
    "The approved run of last month, once"
    pool = demo.pool
    Run = pool.get('distributor.assessment.run')
    Result = pool.get('distributor.assessment.result')
    Proposal = pool.get('distributor.tier.proposal')
    ModelData = pool.get('ir.model.data')
    if Run.search([], limit=1):
        print('assessment runs already there: none added')
        return
    end = demo.today.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    template = ModelData.get_id(
        'distributor_assessment', 'template_standard')
    with trusted():
        run, = Run.create([{
                    'company': demo.company.id,
                    'template': template,
                    'start_date': start,
                    'end_date': end,
                    }])
        Run._computing([run])
        # computed at once (not through the queue)
        Run.process([run])
        run = Run(run.id)
        results = sorted(run.results, key=lambda r: (r.rank or 0, r.id))
        if results:
            # the last one brought in two counties after the period
            last = results[-1]
            Result.adjust_scores([last],
                min((last.computed_score or 0) + 10, 100),
                "新开发两个县级市场，酌情加分")
        Run.review([run])
        Run.approve([run])
        proposals = Proposal.search([('run', '=', run.id)],
            order=[('id', 'ASC')])
        if proposals:
            Proposal.refuse_proposals(proposals[:1],
                "渠道结构本季度不调整，下季度复核")
    demo.report.append(f'  assessment       {run.number}: '
        f'{len(run.results)} distributors, {len(proposals)} tier '
        'proposals')


PARTS = [
    Part('assessment', assessment),
    ]
