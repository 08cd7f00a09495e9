using Pilot.Supervisor.Config.Decoding;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>Pilot's <c>when.cron</c> (issue 17): a parsable expression that fires, and not beside <c>interval</c>, <c>once</c> or <c>each</c>.</summary>
internal static class CronRules
{
    public static bool IsSet(RawWhen? when) => when is { Cron.Length: > 0 };

    public static void Validate(string name, RawWhen when, Action<string, string> fail)
    {
        if (!IsSet(when))
        {
            return;
        }
        var others = new[] { ("interval", when.Interval.IsSet), ("once", when.Once.Length > 0), ("each", when.Each.Length > 0) }
            .Where(k => k.Item2).Select(k => $"'{k.Item1}'").ToList();
        if (others.Count > 0)
        {
            fail("when.cron", $"job[{name}].when.cron cannot be used with {string.Join(" or ", others)}: a job runs on a schedule or on events, not both");
        }
        if (CronSchedule.Parse(when.Cron).Error is { } error)
        {
            fail("when.cron", $"unable to parse job[{name}].when.cron '{when.Cron}': {error}");
        }
    }
}
