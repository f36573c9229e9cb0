/** `faultline gameday init`: a commented plan to start from (every key explained in place). */
export const GAMEDAY_TEMPLATE = `# A faultline game day plan. Run it with: faultline gameday gameday.yaml [--ui]
# Non-interactive (CI, --yes, no terminal): stages advance on their own timers.
title: Payment service survives a slow database
# Why we do this: what the team wants to learn.
objective: Learn whether checkout degrades gracefully when PostgreSQL slows down.
# What we expect, written BEFORE breaking anything.
hypothesis: With a 300 ms database delay, p99 stays under 2 s and errors under 1 %; no order is lost.
roles:
  operator: Ana        # applies faults; the only one who types continue / abort
  scribe: Ben          # types observations: "predicted: …", "actual: …", "action: … @owner"
  observer: [Chloé]
  oncall: Dev          # watches the pager: did the alerts fire?
# What may be touched, as agreed in the room.
blastRadius: staging only; the proxy between payment-service and PostgreSQL; at most 100 % of its connections
# How to stop everything at once.
killSwitch: type abort (or press HALT with --ui, or run faultline halt); stop conditions in the experiment (error_rate > 5% for 3s)
successCriteria:
  - name: errors stay low
    threshold: error_rate < 1%      # measured from the experiment's load over each stage
  - name: latency stays bearable
    threshold: p99 < 2s
  - name: the latency alert pages on-call
    manual: PaymentLatencyHigh fires within 2 minutes   # the scribe types: criterion 3 met: paged after 70 s
# faultline experiments, relative to this file; every stage runs each of them in turn.
experiments:
  - payment-db-latency.yaml
# Widen the fault step by step: the share of connections (or requests) the faults act on.
stages:
  - { name: canary, percentage: 10, observe: 30s }
  - { percentage: 50, observe: 30s }
  - { percentage: 100, observe: 60s }
# Longest a stage is held waiting for the operator; then everything is removed.
maxHold: 15m
# Known before the day; more are added during it with "action: … @owner".
actionItems: []
`;
