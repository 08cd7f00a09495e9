using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;

namespace Pilot.Supervisor.Hosting;

/// <summary>Receives user metric values posted to the control plane.</summary>
public interface IUserMetrics
{
    MetricPutResult Put(IReadOnlyDictionary<string, double> values);

    /// <summary>Applies a reloaded <c>telemetry.metrics</c>, keeping values of metrics that still exist.</summary>
    void Reconfigure(ImmutableArray<MetricConfig> metrics);
}
