"""The study around the trials: the loop (ask, run, record, tell), pruning on the pruning study,
recovery of crashed workers, worker processes, storages and samplers, and the records kept on trials.
"""
