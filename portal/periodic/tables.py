from piccolo.columns import BigInt, Integer, Timestamptz, Varchar
from piccolo.table import Table


class ScheduledJob(Table, tablename="scheduled_job"):
    """One row per periodic job, shared by every scheduler of the cluster.

    A scheduler sends a job only after a conditional UPDATE moved ``period`` up to the current
    period number: however many schedulers run, each period is won once. ``lease_until`` is the
    end of the won period (when the next one may be won), ``runs`` counts the periods sent.
    """

    name = Varchar(length=100, primary_key=True)
    # The last period number won (see portal.periodic.rules.period_of); -1 before the first.
    period = BigInt(default=-1)
    # Which scheduler won it: host:pid.
    holder = Varchar(length=200, default="")
    lease_until = Timestamptz(null=True, default=None)
    last_run_at = Timestamptz(null=True, default=None)
    runs = Integer(default=0)
