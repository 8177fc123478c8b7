"""Facts the Pulumi program (components/), the operations code (ops/) and the policy pack share.

Every name, label, deadline and table that more than one layer needs has its one owner here, and both sides import
it: nothing is copied, so no test has to keep copies equal. Nothing in this package imports Pulumi or a cloud SDK,
and nothing does I/O.

    naming       the stack name rules and every cloud name derived from a stack
    cluster      Kubernetes objects and labels both sides read or write (records, leases, workload labels)
    identities   which Kubernetes service account each cloud identity belongs to
    rollout      the rollout steps, their order, deadlines and lease bounds, and the typed HookContext
"""
