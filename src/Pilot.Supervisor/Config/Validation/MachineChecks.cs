using System.Collections.Immutable;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Discovery.Interfaces;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>
/// The load-time checks that depend on this machine, as v3 makes them while loading: a service job's (or
/// telemetry's) <c>interfaces</c> must match an address here, or the config is refused (at start, on reload and in
/// <c>-validate</c>) instead of running a service nobody can discover.
/// </summary>
internal static class MachineChecks
{
    private const string NoMatch = "none of the interface specifications were able to match";

    public static IEnumerable<ConfigError> InterfaceErrors(RawConfig raw, ImmutableArray<JobConfig> jobs) =>
        InterfaceErrors(raw, jobs, IpSelector.SystemInterfaces);

    public static IEnumerable<ConfigError> InterfaceErrors(RawConfig raw, ImmutableArray<JobConfig> jobs, Func<IEnumerable<InterfaceAddress>> machine)
    {
        var addresses = new Lazy<List<InterfaceAddress>>(() => [.. machine()]);
        foreach (var (rawJob, job) in raw.Jobs.Zip(jobs))
        {
            if (job.IsService && NoMatchError(job.Interfaces, addresses) is { } error)
            {
                yield return new ConfigError(rawJob.Path + ".interfaces", "unable to parse jobs: " + error, rawJob.LineOf("interfaces"));
            }
        }
        if (raw.Telemetry is { } telemetry
            && NoMatchError(telemetry.Interfaces is { Count: > 0 } specs ? specs : V3Rules.DefaultInterfaces, addresses) is { } telemetryError)
        {
            yield return new ConfigError("telemetry.interfaces", "telemetry validation error: " + telemetryError, telemetry.LineOf("interfaces"));
        }
    }

    /// <summary>The no-match error; malformed specs are reported by the validators, not again here.</summary>
    private static string? NoMatchError(IEnumerable<string> specs, Lazy<List<InterfaceAddress>> addresses)
    {
        var list = specs.ToList();
        if (list.Any(spec => V3Rules.InterfaceSpecError(spec) is not null))
        {
            return null;
        }
        return IpSelector.Select(list, addresses.Value) is { Error: { } error } && error.StartsWith(NoMatch, StringComparison.Ordinal) ? error : null;
    }
}
