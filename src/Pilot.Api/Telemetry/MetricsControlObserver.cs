using Pilot.Api.Control;
using Pilot.Supervisor.Telemetry;

namespace Pilot.Api.Telemetry;

/// <summary>Counts control-plane replies into <c>containerpilot_control_http_requests{code,path}</c>.</summary>
internal sealed class MetricsControlObserver(PilotMetrics metrics) : IControlRequestObserver
{
    public void RequestCompleted(int statusCode, string path) => metrics.CountControlRequest(statusCode, path);
}
