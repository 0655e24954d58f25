"""Use cases over an open `hitl.desk.Desk`, each in one unit of work.

One use case per module, the layers as `.importlinter` orders them:

    batch, recovery, retry, resolve, thread_view   Inbox.batch, stale claims, retry, resolve, one thread
    resume_batch, one_click, visibility            a chunk's resume, decide's answer, what a principal sees
    resume_one                                     one thread's resume: claim, run, close + audit
    resume_plan, leases, runs, decision_log,       its steps: checks, claim leases, graph runs in a
      stale_claims                                 worker, the audit rows, settling a dead desk's claims
    access, unknown, outcomes                      quorum gate and my queue, outcome unknown, how a run ended
"""
