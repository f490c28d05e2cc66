"""Scheduled jobs run in the process leading them only (scheduler/schedule.py, storage/leadership.py)."""

from __future__ import annotations

from types import SimpleNamespace

from scheduler import schedule


class Leads:
    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def try_acquire(self, name: str) -> bool:
        self.asked.append(name)
        return name in self.names

    def held(self, name: str) -> bool:
        return name in self.names

    async def release_all(self) -> None:
        self.names.clear()


async def test_a_job_runs_only_where_its_name_is_led_and_a_follower_asks_each_tick() -> None:
    ran: list[str] = []

    async def sweep_job(context: object) -> None:
        ran.append("sweep")

    leads = Leads({"digests"})
    context = SimpleNamespace(application=SimpleNamespace(bot_data={"leadership": leads}))
    job = schedule._led("sweep", sweep_job)
    await job(context)  # type: ignore[arg-type]
    await job(context)  # type: ignore[arg-type]
    assert ran == [] and leads.asked == ["sweep", "sweep"]
    leads.names.add("sweep")  # the leader died, this process acquired at its next tick
    await job(context)  # type: ignore[arg-type]
    assert ran == ["sweep"]
    assert job.__name__ == "sweep_job"  # PTB names the job by its callback
