"""Client certification: the emulator plays the clearing house and judges a participant's back office.

``python -m conformance certify-client --participant CPA01`` starts a gateway (or drives one given
with ``--gateway``) as the operator, tells the person which user their back office logs in as,
then runs scenarios (data files in ``cases/``, one per suite) step by step: the certifier disturbs
the client's session (fault injection, EC600-EC607), acts as the clearing house and as the
counterparty, and judges what the client does from the gateway's record of its session (EQ610,
EQ611). Every step has a deadline and a verdict: passed, failed (with the reason) or not tested.
See docs/guides/certify-your-client.md.
"""
