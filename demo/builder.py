"""Plan one demo organization from its spec (demo.specs), and save the plan.

`OrgBuilder.plan()` makes every row of an organization as an unsaved model instance, with no
database access; `save()` inserts them in a fixed number of bulk inserts. Every random choice
comes from `random.Random(spec.seed)` (check-in histories from a stream of their own), and
every date is relative to `today` and `now`, so the demo is the same shape on every machine and
always looks current.

The main organization carries the mess real data has (see `DemoMess`, the comments marked
"Mess:" here and in demo/data/northwind.toml), so data-health pages have something true to show.
"""

from __future__ import annotations

import datetime
import math
import random
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from demo.specs import (
    CHECK_IN_NOTES,
    GENERIC_TASKS,
    NORTHWIND,
    KeyResultSpec,
    ObjectiveSpec,
    OrgSpec,
)
from okrs import progress
from okrs import services as okrs_services
from okrs.models import (
    CheckIn,
    Cycle,
    KeyResult,
    MetricType,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from orgs.models import Organization, Person, Role

BATCH = 500


def quarter_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    starts_on = datetime.date(day.year, first_month, 1)
    next_start = (
        datetime.date(day.year + 1, 1, 1)
        if first_month == 10
        else datetime.date(day.year, first_month + 3, 1)
    )
    return starts_on, next_start - datetime.timedelta(days=1)


def quarter_name(starts_on: datetime.date) -> str:
    return f"{starts_on.year} Q{(starts_on.month - 1) // 3 + 1}"


def email_for(name: str, domain: str) -> str:
    return ".".join(re.sub(r"[^a-z ]", "", name.lower()).split()) + f"@{domain}"


class OrgBuilder:
    """Plans one organization from its spec, then saves it in a fixed number of bulk inserts.

    `plan()` makes every row as an unsaved model instance, with no database access, so one plan
    can be saved as it is (`save()`, the ORM-built organizations) or written into an Airtable
    base and synced (`demo.airtable_base`, the main organization). `users`: username -> user (saved
    or not: the plan only reads names and emails).
    """

    def __init__(self, spec: OrgSpec, *, users: dict, today: datetime.date, now: datetime.datetime):
        self.spec = spec
        self.organization = Organization(name=spec.name, slug=spec.slug)
        self.rng = random.Random(spec.seed)
        self.today = today
        self.now = now
        self.tz = timezone.get_current_timezone()
        self.users_by_name = {user.get_full_name(): user for user in users.values()}
        self.viewer_names = {
            users[username].get_full_name()
            for username, role in spec.members.items()
            if role == Role.VIEWER
        }
        self.epoch = datetime.datetime.min.replace(tzinfo=datetime.UTC)

    # Helpers ------------------------------------------------------------------------------

    def at(
        self, day: datetime.date, hour: int | None = None, *, rng: random.Random | None = None
    ) -> datetime.datetime:
        """A working-hours moment on `day`, never later than now."""
        rng = rng or self.rng
        hour = rng.randint(8, 17) if hour is None else hour
        moment = datetime.datetime.combine(
            day, datetime.time(hour, rng.randrange(0, 60, 5)), tzinfo=self.tz
        )
        return min(moment, self.now - datetime.timedelta(minutes=rng.randint(5, 90)))

    def days(self, low: int, high: int) -> datetime.date:
        return self.today + datetime.timedelta(days=self.rng.randint(low, high))

    def owned(self, **fields):
        return {"organization": self.organization, **fields}

    # Build ----------------------------------------------------------------------------------

    def build(self) -> Organization:
        """Create the organization and save its plan."""
        self.organization = Organization.objects.create(name=self.spec.name, slug=self.spec.slug)
        self.plan()
        self.save()
        return self.organization

    def plan(self) -> OrgBuilder:
        """Every row, unsaved; the same spec, `today` and `now` always give the same plan."""
        self.plan_people()
        self.plan_cycles()
        self.plan_pathways_and_objectives()
        self.plan_key_results_and_check_ins()
        self.plan_projects()
        self.plan_tasks()
        return self

    def save(self) -> None:
        """Insert the plan, parents first (bulk_create fills in the keys children point to)."""
        Person.objects.bulk_create(self.people.values())
        Cycle.objects.bulk_create(self.cycles)
        Pathway.objects.bulk_create(self.pathways)
        Objective.objects.bulk_create([o for o, s, _, _ in self.objectives if not s.parent])
        Objective.objects.bulk_create([o for o, s, _, _ in self.objectives if s.parent])
        KeyResult.objects.bulk_create([kr for kr, *_ in self.key_results])
        CheckIn.objects.bulk_create(self.check_ins, batch_size=BATCH)
        # The feed shows the history the plan was built with (okrs.services.check_ins_noted).
        okrs_services.check_ins_noted(organization=self.organization, check_ins=self.check_ins)
        Project.objects.bulk_create(self.projects)
        Through = Project.objectives.through
        Through.objects.bulk_create(
            [
                Through(project_id=project.pk, objective_id=objective.pk)
                for project, objectives in zip(self.projects, self.project_objectives, strict=True)
                for objective in objectives
            ]
        )
        Task.objects.bulk_create(self.tasks, batch_size=BATCH)

    def plan_people(self) -> None:
        assert len(set(self.spec.people)) == len(self.spec.people)
        people = []
        for name in self.spec.people:
            user = self.users_by_name.get(name)
            departed_on = None
            if name in self.spec.departed:
                # Mess: left one to six months ago, still holding open tasks (plan_tasks).
                departed_on = self.days(-180, -30)
            people.append(
                Person(
                    **self.owned(
                        name=name,
                        email=user.email if user else email_for(name, self.spec.email_domain),
                        user=user,
                        departed_on=departed_on,
                    )
                )
            )
        self.people = {person.name: person for person in people}
        self.demo_person = self.people["Dana Reyes"]
        self.active_people = [p for p in people if p.departed_on is None]
        # Who gets ordinary work: everyone still here except the demo user, whose share of
        # tasks and key results is set exactly so "my work" always has the same shape, and
        # except viewers, who cannot check in or move tasks.
        self.pool = [
            p
            for p in self.active_people
            if p is not self.demo_person and p.name not in self.viewer_names
        ]
        self.departed_people = [p for p in people if p.departed_on is not None]

    def plan_cycles(self) -> None:
        starts_on, ends_on = quarter_bounds(self.today)
        self.current = Cycle(
            **self.owned(name=quarter_name(starts_on), starts_on=starts_on, ends_on=ends_on)
        )
        cycles = [self.current]
        self.previous = None
        if any(pathway.previous for pathway in self.spec.pathways):
            prev_start, prev_end = quarter_bounds(starts_on - datetime.timedelta(days=1))
            self.previous = Cycle(
                **self.owned(name=quarter_name(prev_start), starts_on=prev_start, ends_on=prev_end)
            )
            cycles.append(self.previous)
        for cycle in cycles:
            cycle.created_at = self.at(cycle.starts_on - datetime.timedelta(days=14), 10)
        self.cycles = cycles

    def plan_pathways_and_objectives(self) -> None:
        pathways = [
            Pathway(**self.owned(name=spec.name, description=spec.description, position=position))
            for position, spec in enumerate(self.spec.pathways, start=1)
        ]
        self.pathways = pathways

        # (objective, spec, cycle, pathway index); objectives with a parent go in a second batch.
        self.objectives: list[tuple[Objective, ObjectiveSpec, Cycle, int]] = []
        for index, (pathway, spec) in enumerate(zip(pathways, self.spec.pathways, strict=True)):
            for cycle, specs in ((self.current, spec.current), (self.previous, spec.previous)):
                for obj in specs:
                    owner = self.people[obj.owner] if obj.owner else self.rng.choice(self.pool)
                    objective = Objective(
                        **self.owned(pathway=pathway, cycle=cycle, title=obj.title, owner=owner)
                    )
                    objective.created_at = self.at(cycle.starts_on - datetime.timedelta(days=7))
                    self.objectives.append((objective, obj, cycle, index))
        by_title = {(o.title, id(cycle)): o for o, _, cycle, _ in self.objectives}
        for objective, spec, cycle, _ in self.objectives:
            if spec.parent:
                objective.parent = by_title[(spec.parent, id(cycle))]

    def plan_key_results_and_check_ins(self) -> None:
        key_results: list[tuple[KeyResult, KeyResultSpec, Cycle, float]] = []
        for objective, spec, cycle, _ in self.objectives:
            # Each objective has its own pace; its key results vary around it. Most are on
            # track, some lag (at risk), a few are well behind (off track).
            low, high = self.rng.choices(
                [(1.05, 1.4), (0.65, 0.95), (0.3, 0.55)], weights=[7, 3, 1.5]
            )[0]
            pace = self.rng.uniform(low, high)
            for kr in spec.key_results:
                key_result = KeyResult(
                    **self.owned(
                        objective=objective,
                        title=kr.title,
                        metric_type=kr.metric,
                        start_value=_decimal(kr.start),
                        current_value=_decimal(kr.start),
                        target_value=_decimal(kr.target),
                        unit=kr.unit,
                        owner=self.rng.choice(self.pool),
                    )
                )
                key_result.created_at = objective.created_at
                kr_pace = max(0.15, pace + self.rng.uniform(-0.15, 0.15))
                key_results.append((key_result, kr, cycle, kr_pace))

        # The demo user owns a few current key results: one of them is due a check-in, and in
        # the main organization one has never been checked in on.
        current = [item for item in key_results if item[2] is self.current]
        never = [item for item in current if item[1].no_check_ins]
        checked = [item for item in current if not item[1].no_check_ins]
        demo_owned = self.rng.sample(checked, self.spec.demo_key_results - min(1, len(never)))
        demo_owned += never[:1]
        for key_result, *_ in demo_owned:
            key_result.owner = self.demo_person
        check_in_due = {id(demo_owned[0][0])}

        check_ins = []
        for key_result, spec, cycle, pace in key_results:
            if spec.no_check_ins:
                continue  # Mess: see KeyResultSpec.no_check_ins.
            overdue = id(key_result) in check_in_due or self.rng.random() < 0.12
            history = self.history(key_result, spec, cycle, pace, overdue=overdue)
            check_ins.extend(history)
            latest = history[-1]
            key_result.current_value = latest.value
            key_result.confidence = latest.confidence
        self.key_results = key_results
        self.check_ins = check_ins

    def history(
        self,
        key_result: KeyResult,
        spec: KeyResultSpec,
        cycle: Cycle,
        pace: float,
        *,
        overdue: bool,
    ) -> list[CheckIn]:
        """Weekly check-ins, oldest first, moving from start towards target at `pace`.

        How many check-ins fit depends on today's date, so each key result draws from its own
        random stream: the rest of the organization comes out the same whatever the date.
        """
        which = "current" if cycle is self.current else "previous"
        rng = random.Random(f"{self.spec.seed}:{which}:{key_result.objective.title}:{spec.title}")
        if cycle is self.current:
            # At least 8 weeks of history, even early in a quarter (the first check-ins then
            # fall in planning weeks before it starts, at the start value).
            last = self.today - datetime.timedelta(
                days=rng.randint(9, 16) if overdue else rng.randint(1, 6)
            )
            weeks_in = (last - cycle.starts_on).days // 7 + 1
            count = min(12, max(8, weeks_in))
            dates = [last - datetime.timedelta(weeks=count - 1 - i) for i in range(count)]
        else:
            dates = []
            day = cycle.starts_on + datetime.timedelta(days=rng.randint(3, 6))
            while day <= cycle.ends_on:
                dates.append(day)
                day += datetime.timedelta(weeks=1)
        # A yes/no key result flips to done once, part-way through (or never, if slow).
        done_at = rng.uniform(0.25, 0.75) / pace
        author = key_result.owner.user if key_result.owner else None
        confidence = rng.randint(6, 8)
        target_confidence = round(2 + 7 * min(pace, 1.1) / 1.1)
        check_ins, previous = [], None
        for day in dates:
            elapsed = progress.elapsed_fraction(cycle.starts_on, cycle.ends_on, day)
            fraction = pace * elapsed + rng.uniform(-0.04, 0.04) * (elapsed > 0)
            fraction = max(-0.1, min(1.05, fraction))
            value = _metric_value(spec, fraction, done=elapsed >= done_at)
            confidence += (target_confidence > confidence) - (target_confidence < confidence)
            confidence = max(0, min(10, confidence + rng.choice((-1, 0, 0, 0, 1))))
            # The note follows what the figure did since the last check-in.
            now_progress = progress.key_result_progress(spec.start, value, spec.target)
            moved = 0 if previous is None else now_progress - previous
            notes = (
                CHECK_IN_NOTES.up
                if moved > 0.005
                else CHECK_IN_NOTES.down
                if moved < -0.005
                else CHECK_IN_NOTES.flat
            )
            note = rng.choice(notes) if rng.random() < 0.7 else ""
            checked_in_at = self.at(day, rng=rng)
            check_ins.append(
                CheckIn(
                    **self.owned(
                        key_result=key_result,
                        value=value,
                        confidence=confidence,
                        note=note,
                        author=author,
                        checked_in_at=checked_in_at,
                        created_at=checked_in_at,
                    )
                )
            )
            previous = now_progress
        return check_ins

    def plan_projects(self) -> None:
        names = [(name, index) for index, p in enumerate(self.spec.pathways) for name in p.projects]
        statuses = list(self.spec.dealt_statuses)
        assert len(names) == len(statuses), "one status per project"
        self.rng.shuffle(statuses)
        active = [i for i, status in enumerate(statuses) if status == ProjectStatus.ACTIVE]
        # Mess: projects abandoned but never closed: still `active`, untouched for 3-8 months.
        stale = set(self.rng.sample(active, self.spec.stale_projects))

        projects, links = [], []
        for i, ((name, pathway_index), status) in enumerate(zip(names, statuses, strict=True)):
            starts_on, ends_on, last_activity = self.project_dates(status, stale=i in stale)
            project = Project(
                **self.owned(
                    name=name,
                    pathway=self.pathways[pathway_index],
                    owner=self.rng.choice(self.pool),
                    status=status,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    last_activity_at=last_activity,
                )
            )
            project.created_at = self.at(min(starts_on, self.today) - datetime.timedelta(days=10))
            project.is_stale = i in stale
            projects.append(project)
            finished = status in (ProjectStatus.DONE, ProjectStatus.ABANDONED)
            cycle = self.previous if finished and self.previous else self.current
            candidates = [o for o, s, c, p in self.objectives if p == pathway_index and c is cycle]
            links.append(self.rng.sample(candidates, min(len(candidates), self.rng.randint(1, 2))))
        self.projects = projects
        self.project_objectives = links

    def project_dates(self, status: ProjectStatus, *, stale: bool):
        """(starts_on, ends_on, last_activity_at) believable for the status."""

        def ago(low: int, high: int) -> datetime.datetime:
            days, hours = self.rng.randint(low, high), self.rng.randint(0, 8)
            return self.now - datetime.timedelta(days=days, hours=hours)

        if stale:
            return self.days(-330, -260), self.days(-80, -20), ago(100, 230)
        if status == ProjectStatus.ACTIVE:
            return self.days(-150, -20), self.days(20, 160), ago(0, 9)
        if status == ProjectStatus.PLANNED:
            starts_on = self.days(7, 60)
            return (
                starts_on,
                starts_on + datetime.timedelta(days=self.rng.randint(60, 180)),
                ago(2, 25),
            )
        if status == ProjectStatus.ON_HOLD:
            return self.days(-150, -40), self.days(20, 120), ago(15, 60)
        if status == ProjectStatus.DONE:
            starts_on, ends_on = self.days(-300, -150), self.days(-100, -14)
            return starts_on, ends_on, self.at(ends_on, 16)
        return self.days(-330, -200), None, ago(60, 200)  # abandoned

    def task_counts(self) -> list[int]:
        """Tasks per project, more for busy projects, summing to exactly `task_total`."""
        weight = {
            ProjectStatus.ACTIVE: 7,
            ProjectStatus.ON_HOLD: 4,
            ProjectStatus.PLANNED: 3,
            ProjectStatus.DONE: 5,
            ProjectStatus.ABANDONED: 3,
        }
        counts = [max(2, weight[p.status] + self.rng.randint(-2, 2)) for p in self.projects]
        ceiling = len(GENERIC_TASKS)
        while sum(counts) != self.spec.task_total:
            i = self.rng.randrange(len(counts))
            if sum(counts) < self.spec.task_total and counts[i] < ceiling:
                counts[i] += 1
            elif sum(counts) > self.spec.task_total and counts[i] > 2:
                counts[i] -= 1
        return counts

    def plan_tasks(self) -> None:
        tasks: list[Task] = []
        for project, count in zip(self.projects, self.task_counts(), strict=True):
            pathway_spec = self.spec.pathways[self.pathways.index(project.pathway)]
            titles = self.rng.sample(GENERIC_TASKS + pathway_spec.task_titles, count)
            for title in titles:
                tasks.append(self.task(project, title))

        # The demo user's share: open tasks in live projects (some overdue), a few done ones.
        fresh = [
            t for t in tasks if t.project.status == ProjectStatus.ACTIVE and not t.project.is_stale
        ]
        open_fresh = [t for t in fresh if t.status != TaskStatus.DONE]
        mine = self.rng.sample(open_fresh, self.spec.demo_open_tasks)
        for index, task in enumerate(mine):
            task.assignee = self.demo_person
            if index < 2:  # two of them overdue, so "my work" shows it
                task.due_on = self.days(-12, -2)
        done_fresh = [t for t in fresh if t.status == TaskStatus.DONE]
        for task in self.rng.sample(done_fresh, min(3, len(done_fresh))):
            task.assignee = self.demo_person

        # Mess: tasks still assigned to people who left. Three open tasks each, in projects
        # that are still going, never reassigned after the person's departure.
        taken = {id(t) for t in mine}
        candidates = [
            t
            for t in tasks
            if t.status != TaskStatus.DONE
            and id(t) not in taken
            and t.project.status in (ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)
        ]
        picks = self.rng.sample(candidates, 3 * len(self.departed_people))
        for i, task in enumerate(picks):
            task.assignee = self.departed_people[i % len(self.departed_people)]

        # A project's last activity is never before its latest completed task.
        latest: dict[int, datetime.datetime] = {}
        for task in tasks:
            key = id(task.project)
            if task.completed_at and task.completed_at > latest.get(key, self.epoch):
                latest[key] = task.completed_at
        for project in self.projects:
            project.last_activity_at = max(
                project.last_activity_at, latest.get(id(project), self.epoch)
            )
        self.tasks = tasks

    def task(self, project: Project, title: str) -> Task:
        """One task with a status, dates and an assignee that fit its project."""
        rng = self.rng
        status_weights = {
            ProjectStatus.DONE: {TaskStatus.DONE: 1},
            ProjectStatus.ABANDONED: {TaskStatus.DONE: 6, TaskStatus.TODO: 4},
            ProjectStatus.PLANNED: {TaskStatus.TODO: 9, TaskStatus.IN_PROGRESS: 1},
            ProjectStatus.ON_HOLD: {TaskStatus.DONE: 3, TaskStatus.TODO: 4, TaskStatus.BLOCKED: 3},
            ProjectStatus.ACTIVE: {
                TaskStatus.DONE: 35,
                TaskStatus.IN_PROGRESS: 25,
                TaskStatus.TODO: 28,
                TaskStatus.BLOCKED: 12,
            },
        }[project.status]
        if project.is_stale:
            status_weights = {TaskStatus.DONE: 3, TaskStatus.TODO: 4, TaskStatus.IN_PROGRESS: 3}
        status = rng.choices(list(status_weights), weights=list(status_weights.values()))[0]

        starts_on = project.starts_on or self.today
        created_at = min(self.at(starts_on + datetime.timedelta(days=rng.randint(0, 10))), self.now)
        completed_at = None
        if project.is_stale:
            # Everything stopped when the project went quiet: due dates long past.
            quiet = project.last_activity_at.date()
            due_on = quiet + datetime.timedelta(days=rng.randint(-30, 30))
            if status == TaskStatus.DONE:
                completed_at = min(
                    self.at(quiet - datetime.timedelta(days=rng.randint(0, 40))),
                    project.last_activity_at,
                )
        elif status == TaskStatus.DONE:
            if project.status == ProjectStatus.DONE:
                span = max(1, (project.ends_on - starts_on).days)
                day = starts_on + datetime.timedelta(days=rng.randint(span // 3, span))
            elif project.status in (ProjectStatus.ABANDONED, ProjectStatus.ON_HOLD):
                # Work done before the project stopped.
                quiet = project.last_activity_at.date()
                day = max(starts_on, quiet - datetime.timedelta(days=rng.randint(0, 60)))
            else:
                day = self.days(-min(60, max(1, (self.today - starts_on).days)), -1)
            completed_at = self.at(day)
            if project.status != ProjectStatus.ACTIVE:
                completed_at = min(completed_at, project.last_activity_at)
            due_on = completed_at.date() + datetime.timedelta(days=rng.randint(-3, 7))
        elif project.status == ProjectStatus.PLANNED:
            due_on = starts_on + datetime.timedelta(days=rng.randint(7, 60))
        elif project.status == ProjectStatus.ABANDONED:
            due_on = project.last_activity_at.date() + datetime.timedelta(days=rng.randint(-20, 40))
        else:
            # Live work: roughly one open task in six is overdue, one in ten undated.
            due_on = self.days(-10, 50) if rng.random() > 0.1 else None
        if completed_at is not None:
            created_at = min(created_at, completed_at - datetime.timedelta(days=rng.randint(1, 20)))
        assignee = rng.choice(self.pool) if rng.random() > 0.08 else None
        task = Task(
            **self.owned(
                project=project,
                title=title,
                assignee=assignee,
                status=status,
                due_on=due_on,
                completed_at=completed_at,
                created_at=created_at,
            )
        )
        return task


def _decimal(value: float | int) -> Decimal:
    return Decimal(str(value))


def _metric_value(spec: KeyResultSpec, fraction: float, *, done: bool) -> Decimal:
    """The value `fraction` of the way from start to target, rounded as the metric is read."""
    if spec.metric == MetricType.YES_NO:
        return Decimal(1 if done else 0)
    start, target = spec.start, spec.target
    if spec.metric == MetricType.MILESTONE:
        return Decimal(max(0, min(int(target), math.floor(target * max(0.0, fraction) + 0.35))))
    raw = start + (target - start) * fraction
    if spec.metric == MetricType.PERCENTAGE:
        return _decimal(round(max(0.0, min(100.0, raw)), 1))
    if spec.metric == MetricType.CURRENCY:
        step = 1000 if abs(target - start) >= 50000 else 100
        return Decimal(round(max(0.0, raw) / step) * step)
    return _decimal(round(max(0.0, raw)) if abs(target - start) >= 20 else round(max(0.0, raw), 1))


# What the main organization's mess amounts to (demo/data/northwind.toml); the tests read it.
@dataclass(frozen=True)
class DemoMess:
    stale_active_projects: int = NORTHWIND.stale_projects
    departed_people: tuple[str, ...] = NORTHWIND.departed
    near_duplicate_objectives: tuple[str, str] = (
        "Reduce patient wait times",
        "Reduce patient waiting time",
    )
    objective_without_key_results: str = "Modernise the staff intranet"
    key_results_without_check_ins: tuple[str, ...] = (
        "Mobile clinic route launched",
        "Supplier contracts renegotiated",
    )


MESS = DemoMess()
