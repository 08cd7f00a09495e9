using Pilot.Client;
using Pilot.Client.Models;
using Pilot.Client.V3.Environ;
using Pilot.Client.V3.Metric;

namespace Pilot.Client.Examples;

/// <summary>The C# example of clients/README.md, verbatim; tests/Pilot.Clients.Tests compiles it and runs it against a real pilot.</summary>
public static class Usage
{
    public static async Task<StatusResponse?> RunAsync(string socketPath, CancellationToken cancellationToken)
    {
        // One HttpClient dialing the socket (default /var/run/containerpilot.socket); you own it.
        using var http = PilotClientFactory.CreateHttpClient(socketPath);
        var pilot = PilotClientFactory.Create(http);

        // Environment for the processes Pilot starts from now on (null sets an empty value).
        await pilot.V3.Environ.PostAsync(
            new EnvironPostRequestBody { AdditionalData = { ["DB_HOST"] = "10.0.0.5" } }, cancellationToken: cancellationToken);

        // A metric declared in the config's telemetry.metrics: counters add, gauges set.
        await pilot.V3.Metric.PostAsync(
            new MetricPostRequestBody { AdditionalData = { ["jobs_done"] = 1 } }, cancellationToken: cancellationToken);

        // Refusals are RFC 7807 problems, thrown as ProblemResponse with every finding.
        try
        {
            await pilot.V3.Environ.PostAsync(
                new EnvironPostRequestBody { AdditionalData = { ["BAD=NAME"] = "x" } }, cancellationToken: cancellationToken);
        }
        catch (ProblemResponse problem)
        {
            Console.Error.WriteLine($"{problem.ResponseStatusCode} {problem.Detail}: {problem.Errors?[0].Message}");
        }

        // Maintenance: services leave Consul until disabled again.
        await pilot.V3.Maintenance.Enable.PostAsync(cancellationToken: cancellationToken);
        return await pilot.V3.Status.GetAsync(cancellationToken: cancellationToken);
    }
}
