using System.Globalization;
using FluentValidation;
using FluentValidation.Results;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>A FluentValidation failure that carries the file line of the offending value.</summary>
internal static class Failures
{
    public static ValidationFailure At(RawSection section, string key, string message) =>
        new(key.Length == 0 ? section.Path : section.Path + "." + key, message) { CustomState = section.LineOf(key) };

    public static ConfigError ToConfigError(this ValidationFailure failure) =>
        new(failure.PropertyName, failure.ErrorMessage, failure.CustomState as int?);
}

/// <summary>Every v3 job rule with v3's message (reference Part A §2), all reported, each at its path and line.</summary>
internal sealed class JobValidator : AbstractValidator<RawJob>
{
    public JobValidator()
    {
        RuleFor(job => job).Custom((job, context) =>
        {
            void Fail(string key, string message) => context.AddFailure(Failures.At(job, key, message));
            var name = job.Name;

            if (job.Health is { } health)
            {
                if (health.Interval < 0 || (health.Interval == 0 && !NotifyRules.IntervalOptional(job, health)))
                {
                    Fail("health.interval", $"job[{name}].health.interval must be > 0" + NotifyRules.NeededBecause(job, health, "interval"));
                }
                else if (V3Rules.TimerTooLong($"job[{name}].health.interval", health.Interval.ToString(CultureInfo.InvariantCulture), V3Rules.Seconds(health.Interval)) is { } longInterval)
                {
                    Fail("health.interval", longInterval);
                }
                if (health.Ttl < 0 || (health.Ttl == 0 && !NotifyRules.TtlOptional(job, health)))
                {
                    Fail("health.ttl", $"job[{name}].health.ttl must be > 0" + NotifyRules.NeededBecause(job, health, "ttl"));
                }
                if (health.Timeout.Error is { } timeoutError)
                {
                    Fail("health.timeout", $"could not parse job[{name}].health.timeout '{health.Timeout}': {timeoutError}");
                }
                else if (V3Rules.TimerTooLong($"job[{name}].health.timeout", health.Timeout.Text, health.Timeout.Value) is { } longTimeout)
                {
                    Fail("health.timeout", longTimeout);
                }
                if (V3Rules.ParseArgs(health.Exec).Error is { } execError)
                {
                    Fail("health.exec", $"unable to create job[{name}].health.exec: {execError}");
                }
                HealthCheckRules.Validate(name, health, Fail);
                NotifyRules.Validate(job, health, Fail);
            }
            else if (job.Port != 0 && name != JobConfig.TelemetryJobName)
            {
                Fail("", $"job[{name}].health must be set if 'port' is set");
            }

            if (name.Length == 0)
            {
                Fail("name", "'name' must not be blank");
            }
            if (job.Port != 0)
            {
                if (V3Rules.ServiceNameError(name) is { } nameError && name.Length > 0)
                {
                    Fail("name", nameError);
                }
                if (job.InitialStatus.Length > 0 && job.InitialStatus is not ("passing" or "warning" or "critical"))
                {
                    Fail("initial_status", $"job[{name}].initialStatus must be one of 'passing', 'warning' or 'critical'");
                }
                var (specs, interfacesError) = V3Rules.Interfaces(job.Interfaces);
                if (interfacesError is not null)
                {
                    Fail("interfaces", interfacesError);
                }
                foreach (var spec in specs)
                {
                    if (V3Rules.InterfaceSpecError(spec) is { } specError)
                    {
                        Fail("interfaces", specError);
                    }
                }
                if (job.Consul is { } consul && !GoDuration.TryParseGo(consul.DeregisterCriticalServiceAfter, out _, out var deregisterError))
                {
                    Fail("consul.deregisterCriticalServiceAfter", $"unable to parse job[{name}].consul.deregisterCriticalServiceAfter: {deregisterError}");
                }
            }

            if (job.When is { } when)
            {
                if (new[] { when.Interval.Text, when.Once, when.Each }.Count(v => v.Length > 0) > 1)
                {
                    Fail("when", $"job[{name}].when can have only one of 'interval', 'once', or 'each'");
                }
                CronRules.Validate(name, when, Fail);
                if (when.Interval.Error is { } intervalError)
                {
                    Fail("when.interval", $"unable to parse job[{name}].when.interval '{when.Interval}': {intervalError}");
                }
                else if (when.Interval.Value is { } interval && interval < TimeSpan.FromMilliseconds(1))
                {
                    Fail("when.interval", $"job[{name}].when.interval '{when.Interval}' cannot be less than 1ms");
                }
                else if (V3Rules.TimerTooLong($"job[{name}].when.interval", when.Interval.Text, when.Interval.Value) is { } longInterval)
                {
                    Fail("when.interval", longInterval);
                }
                if (when.Timeout.Error is { } whenTimeoutError)
                {
                    Fail("when.timeout", $"unable to parse job[{name}].when.timeout: {whenTimeoutError}");
                }
                else if (V3Rules.TimerTooLong($"job[{name}].when.timeout", when.Timeout.Text, when.Timeout.Value) is { } longWhenTimeout)
                {
                    Fail("when.timeout", longWhenTimeout);
                }
                foreach (var (key, code) in new[] { ("once", when.Once), ("each", when.Each) })
                {
                    if (code.Length > 0 && !EventCodes.TryParse(code, out _))
                    {
                        // v3's words (its field is `when.event`); the path names the key as written, with a suggestion.
                        Fail("when." + key, $"unable to parse job[{name}].when.event: {code} is not a valid event code"
                            + ObjectReader.DidYouMean(code, EventCodes.ConfigNames, '"'));
                    }
                }
            }

            if (job.StopTimeout.Error is { } stopError)
            {
                Fail("stopTimeout", $"unable to parse job[{name}].stopTimeout '{job.StopTimeout}': {stopError}");
            }
            else if (V3Rules.TimerTooLong($"job[{name}].stopTimeout", job.StopTimeout.Text, job.StopTimeout.Value) is { } longStop)
            {
                Fail("stopTimeout", longStop);
            }

            var isPeriodic = (job.When?.Interval.IsSet ?? false) || CronRules.IsSet(job.When);
            if (V3Rules.Restarts(job.Restarts, isPeriodic, job.When?.Each.Length > 0).Error is { } restartsError)
            {
                Fail("restarts", $"job[{name}].restarts field '{job.Restarts!.GoFormat()}' invalid: {restartsError}");
            }

            if (job.Timeout.Error is { } timeoutParseError)
            {
                Fail("timeout", $"unable to parse job[{name}].timeout '{job.Timeout}': {timeoutParseError}");
            }
            else if (job.Timeout.Value is { } t && t < TimeSpan.FromMilliseconds(1))
            {
                Fail("timeout", $"job[{name}].timeout '{job.Timeout}' cannot be less than 1ms");
            }
            else if (V3Rules.TimerTooLong($"job[{name}].timeout", job.Timeout.Text, job.Timeout.Value) is { } longTimeout)
            {
                Fail("timeout", longTimeout);
            }
            if (V3Rules.ParseArgs(job.Exec).Error is { } jobExecError)
            {
                Fail("exec", $"unable to create job[{name}].exec: {jobExecError}");
            }
        });
    }
}

internal sealed class WatchValidator : AbstractValidator<RawWatch>
{
    public WatchValidator()
    {
        RuleFor(watch => watch).Custom((watch, context) =>
        {
            if (V3Rules.ServiceNameError(watch.Name) is { } nameError)
            {
                context.AddFailure(Failures.At(watch, "name", nameError));
            }
            if (watch.Interval <= 0)
            {
                context.AddFailure(Failures.At(watch, "interval", $"watch[{watch.Name}].interval must be > 0"));
            }
            else if (V3Rules.TimerTooLong($"watch[{watch.Name}].interval", watch.Interval.ToString(CultureInfo.InvariantCulture), V3Rules.Seconds(watch.Interval)) is { } longInterval)
            {
                context.AddFailure(Failures.At(watch, "interval", longInterval));
            }
        });
    }
}

internal sealed class MetricValidator : AbstractValidator<RawMetric>
{
    public MetricValidator()
    {
        RuleFor(metric => metric).Custom((metric, context) =>
        {
            if (metric.Type is not ("counter" or "gauge" or "histogram" or "summary"))
            {
                context.AddFailure(Failures.At(metric, "type", $"invalid metric type: {metric.Type}"));
            }
            if (metric.Buckets is { Count: > 0 } buckets && (buckets.Any(b => !double.IsFinite(b)) || buckets.Zip(buckets.Skip(1)).Any(p => p.Second <= p.First)))
            {
                context.AddFailure(Failures.At(metric, "buckets", $"histogram buckets must be finite and increasing, got [{string.Join(' ', buckets.Select(b => b.ToString(CultureInfo.InvariantCulture)))}]"));
            }
        });
        RuleFor(metric => metric).Custom((metric, context) =>
        {
            var fullName = string.Join('_', new[] { metric.Namespace, metric.Subsystem, metric.Name }.Where(p => p.Length > 0));
            if (V3Rules.MetricNameError(fullName, metric.Help) is { } error)
            {
                context.AddFailure(Failures.At(metric, metric.Help.Length == 0 ? "help" : "name", error));
            }
        });
    }
}

internal sealed class LoggingValidator : AbstractValidator<RawLogging>
{
    private static readonly string[] Levels = ["debug", "info", "warn", "warning", "error", "fatal", "panic"];

    public LoggingValidator()
    {
        RuleFor(logging => logging).Custom((logging, context) =>
        {
            if (logging.Level is { Length: > 0 } level && !Levels.Contains(level.ToLowerInvariant()))
            {
                context.AddFailure(Failures.At(logging, "level", $"Unknown log level '{level}': not a valid logrus Level: \"{level}\""));
            }
            if (logging.Format is { Length: > 0 } format && format.ToLowerInvariant() is not ("default" or "text" or "json"))
            {
                context.AddFailure(Failures.At(logging, "format", $"Unknown log format '{format}'"));
            }
            if (logging.KeepLines is { } keep && keep is < 0 or > LoggingConfig.MaxKeepLines)
            {
                context.AddFailure(Failures.At(logging, "keepLines", $"logging.keepLines must be between 0 and {LoggingConfig.MaxKeepLines}, got {keep}"));
            }
        });
    }
}
