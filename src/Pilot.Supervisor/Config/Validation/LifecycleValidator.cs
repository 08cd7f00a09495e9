using FluentValidation;
using Pilot.Supervisor.Config.Decoding;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>
/// The job lifecycle extensions (<c>restartBackoff</c>, <c>stopSignal</c>, <c>onSuccess</c>, <c>onFailure</c>) and the
/// top-level <c>shutdownOrder</c>: each error names the field and its line, and a misspelt choice gets a "did you mean".
/// </summary>
internal sealed class LifecycleValidator : AbstractValidator<RawJob>
{
    public static readonly string[] ExitActions = ["continue", "shutdown"];
    public static readonly string[] ShutdownOrders = ["together", "dependencies"];

    public LifecycleValidator()
    {
        RuleFor(job => job).Custom((job, context) =>
        {
            void Fail(string key, string message) => context.AddFailure(Failures.At(job, key, message));
            var name = job.Name;
            var raw = job.Lifecycle;
            if (raw.RestartBackoff is { } backoff)
            {
                var field = $"job[{name}].restartBackoff";
                var initial = Duration(backoff.Initial, "initial");
                var max = Duration(backoff.Max, "max");
                Duration(backoff.ResetAfter, "resetAfter");
                if (backoff.Factor is { } factor && !(factor >= 1 && double.IsFinite(factor)))
                {
                    Fail("restartBackoff.factor", $"{field}.factor must be a number ≥ 1, got {Shown(factor)}");
                }
                if (backoff.Jitter is { } jitter && !(jitter is >= 0 and <= 1))
                {
                    Fail("restartBackoff.jitter", $"{field}.jitter must be a fraction from 0 to 1, got {Shown(jitter)}");
                }
                if ((initial ?? RestartBackoffConfig.DefaultInitial) > (max ?? RestartBackoffConfig.DefaultMax))
                {
                    Fail("restartBackoff.max", $"{field}.max '{Text(backoff.Max, RestartBackoffConfig.DefaultMax)}' cannot be less than "
                        + $"{field}.initial '{Text(backoff.Initial, RestartBackoffConfig.DefaultInitial)}'");
                }
                if (job.When?.Interval.IsSet == true || CronRules.IsSet(job.When))
                {
                    var schedule = job.When?.Interval.IsSet == true ? "when.interval" : "when.cron";
                    Fail("restartBackoff", $"{field} cannot be used with {schedule}: a periodic job runs on its ticks, not on restarts");
                }

                TimeSpan? Duration(RawDuration value, string key)
                {
                    if (value.Error is { } error)
                    {
                        Fail($"restartBackoff.{key}", $"could not parse {field}.{key} '{value}': {error}");
                    }
                    else if (value.Value is { } parsed && parsed <= TimeSpan.Zero)
                    {
                        Fail($"restartBackoff.{key}", $"{field}.{key} must be > 0, got '{value}'");
                    }
                    else if (V3Rules.TimerTooLong($"{field}.{key}", value.Text, value.Value) is { } tooLong)
                    {
                        Fail($"restartBackoff.{key}", tooLong);
                    }
                    else
                    {
                        return value.Value;
                    }
                    return null;
                }
            }
            if (raw.StopSignal is { } signal && !StopSignals.TryParse(signal, out _))
            {
                Fail("stopSignal", $"job[{name}].stopSignal: \"{signal}\" is not a signal Pilot can send "
                    + $"(one of {string.Join(", ", StopSignals.ByName.Keys.Order(StringComparer.Ordinal))} or a number 1-64)"
                    + ObjectReader.DidYouMean(signal.ToUpperInvariant(), StopSignals.ByName.Keys, '"'));
            }
            if (ChoiceError($"job[{name}].onSuccess", raw.OnSuccess, ExitActions) is { } onSuccess)
            {
                Fail("onSuccess", onSuccess);
            }
            if (ChoiceError($"job[{name}].onFailure", raw.OnFailure, ExitActions) is { } onFailure)
            {
                Fail("onFailure", onFailure);
            }
        });
    }

    /// <summary>The top-level <c>shutdownOrder</c>, if it is not one of its choices.</summary>
    public static IEnumerable<ConfigError> ShutdownOrderErrors(RawConfig raw) =>
        ChoiceError(ConfigDecoder.ShutdownOrderKey, raw.ShutdownOrder, ShutdownOrders) is { } error
            ? [new ConfigError(ConfigDecoder.ShutdownOrderKey, error, raw.ShutdownOrderLine)]
            : [];

    /// <summary>An error unless <paramref name="value"/> is absent or one of <paramref name="choices"/> (any case).</summary>
    private static string? ChoiceError(string field, string? value, string[] choices) =>
        value is null || choices.Contains(value.ToLowerInvariant())
            ? null
            : $"{field}: \"{value}\" must be {string.Join(" or ", choices.Select(c => $"\"{c}\""))}" + ObjectReader.DidYouMean(value, choices, '"');

    private static string Shown(double value) =>
        double.IsNaN(value) ? "a value that is not a number" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Text(RawDuration value, TimeSpan fallback) => value.IsSet ? value.Text : GoDuration.Format(fallback);
}

/// <summary>Validated lifecycle values → the job's config (defaults: v3's behaviour).</summary>
internal static class LifecyclePlan
{
    public static JobConfig Apply(JobConfig job, RawLifecycle raw) => job with
    {
        RestartBackoff = raw.RestartBackoff is { } backoff ? Backoff(backoff) : null,
        StopSignal = raw.StopSignal is { } text && StopSignals.TryParse(text, out var signal) ? signal : job.StopSignal,
        OnSuccess = Action(raw.OnSuccess),
        OnFailure = Action(raw.OnFailure),
    };

    public static ShutdownOrder Order(string? text) =>
        string.Equals(text, "dependencies", StringComparison.OrdinalIgnoreCase) ? ShutdownOrder.Dependencies : ShutdownOrder.Together;

    private static ExitAction Action(string? text) =>
        string.Equals(text, "shutdown", StringComparison.OrdinalIgnoreCase) ? ExitAction.Shutdown : ExitAction.Continue;

    private static RestartBackoffConfig Backoff(RawBackoff raw)
    {
        var max = raw.Max.Value ?? RestartBackoffConfig.DefaultMax;
        return new RestartBackoffConfig
        {
            Initial = raw.Initial.Value ?? RestartBackoffConfig.DefaultInitial,
            Factor = raw.Factor ?? RestartBackoffConfig.DefaultFactor,
            Max = max,
            Jitter = raw.Jitter ?? 0,
            ResetAfter = raw.ResetAfter.Value ?? max,
        };
    }
}
