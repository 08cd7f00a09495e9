using Cronos;

namespace Pilot.Supervisor.Config;

/// <summary>
/// Pilot extension <c>when.cron</c>: a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds
/// first), or a macro such as <c>@hourly</c>; times are UTC. Equal when the expression text is equal (reload keeps the job).
/// </summary>
public sealed class CronSchedule : IEquatable<CronSchedule>
{
    private readonly CronExpression _expression;

    private CronSchedule(string text, CronExpression expression)
    {
        Text = text;
        _expression = expression;
    }

    /// <summary>The expression as written.</summary>
    public string Text { get; }

    /// <summary>Parses <paramref name="text"/>; the error says what is wrong (Cronos' words) or that it never fires.</summary>
    public static (CronSchedule? Schedule, string? Error) Parse(string text)
    {
        var fields = text.Split(' ', '\t').Count(part => part.Length > 0);
        if (fields is not (1 or 5 or 6))
        {
            return (null, $"a cron expression has 5 fields (minute hour day month weekday) or 6 (seconds first), got {fields}");
        }
        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(text.Trim(), fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            return (null, ex.Message);
        }
        var schedule = new CronSchedule(text, expression);
        // Cronos has no year field: a date that exists once in a leap year always comes back within 8 years.
        return schedule.NextAfter(DateTimeOffset.UnixEpoch) is null || expression.GetNextOccurrence(DateTime.UnixEpoch.AddYears(9)) is null
            ? (null, "it never fires (no such date)")
            : (schedule, null);
    }

    /// <summary>The first time the schedule fires strictly after <paramref name="after"/> (UTC); null when it never does again.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after) =>
        _expression.GetNextOccurrence(after.UtcDateTime, inclusive: false) is { } next ? new DateTimeOffset(next, TimeSpan.Zero) : null;

    public bool Equals(CronSchedule? other) => other is not null && Text == other.Text;

    public override bool Equals(object? obj) => Equals(obj as CronSchedule);

    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Text;
}
