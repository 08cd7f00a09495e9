using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part B §3 (interfaces and IP selection), seen through <c>CONTAINERPILOT_&lt;NAME&gt;_IP</c>.</summary>
public sealed class InterfacesTests
{
    private const int SIGTERM = 15;

    /// <summary>
    /// Specs as v3 reads them, each job's choice shown by its <c>_IP</c> variable: a bare name (loopback allowed), a
    /// CIDR, <c>static:</c> (IPv4 and IPv6), the first spec that yields an address winning (a name that matches no
    /// interface yields none), and non-string items printed with <c>%v</c> (<c>5</c> is interface "5").
    /// </summary>
    [Fact]
    public async Task InterfaceSpecs_SelectAddressesAsV3Does()
    {
        using var timeout = PilotProcess.Timeout();
        static string Service(string name, string interfaces) =>
            $$"""{ name: "{{name}}", exec: "sleep 600", port: 80, interfaces: {{interfaces}}, health: { exec: "true", interval: 600, ttl: 900 } },""";
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: "127.0.0.1:1",
              control: { socket: "SOCKET" },
              jobs: [
                {{Service("by-name", "\"lo\"")}}
                {{Service("by-family", "[\"lo:inet\"]")}}
                {{Service("by-cidr", "[\"127.0.0.0/8\"]")}}
                {{Service("static-four", "\"static:10.1.2.3\"")}}
                {{Service("static-six", "[\"static:fdc6:238c:c4bc::1\"]")}}
                {{Service("in-order", "[\"nosuch0\", \"static:10.9.9.9\", \"lo\"]")}}
                {{Service("printed", "[5, \"lo\"]")}}
                { name: "show", exec: ["sh", "-c", "echo ips $CONTAINERPILOT_BY_NAME_IP $CONTAINERPILOT_BY_FAMILY_IP $CONTAINERPILOT_BY_CIDR_IP $CONTAINERPILOT_STATIC_FOUR_IP $CONTAINERPILOT_STATIC_SIX_IP $CONTAINERPILOT_IN_ORDER_IP $CONTAINERPILOT_PRINTED_IP"] },
              ],
            }
            """);

        var ips = await pilot.WaitForLineAsync(" ips ", timeout.Token);
        pilot.Signal(SIGTERM);

        ips.ShouldEndWith(" ips 127.0.0.1 127.0.0.1 127.0.0.1 10.1.2.3 fdc6:238c:c4bc::1 10.9.9.9 127.0.0.1");
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task InterfaceSpecs_ThatAreMalformed_AreRefusedOneLineEach()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              consul: "localhost:8500",
              telemetry: { interfaces: "lo" },
              jobs: [
                { name: "ab", exec: "true", port: 80, health: { interval: 1, ttl: 1 },
                  interfaces: ["br-1a2b", "eth0:inet5", "static:abcdef", "static:123", ":inet", "127.0.0.1", "eth0[-1]", "eth0[99999999999999999999]", null, "lo"] },
                { name: "cd", exec: "true", port: 80, health: { interval: 1, ttl: 1 }, interfaces: {} },
                { name: "ef", exec: "true", port: 80, health: { interval: 1, ttl: 1 }, interfaces: 5 },
              ],
            }
            """, timeout.Token);

        string[] specErrors =
        [
            "Unable to parse interface spec: br-1a2b",
            "Unable to parse interface spec: eth0:inet5",
            "Unable to parse static ip static: in static:abcdef",
            "Unable to parse interface spec: static:123",
            "Unable to parse interface spec: :inet",
            "Unable to parse interface spec: 127.0.0.1",
            "Unable to parse interface spec: eth0[-1]",
            "Unable to parse index 99999999999999999999 in eth0[99999999999999999999]",
            "Unable to parse interface spec: <nil>",
        ];
        foreach (var message in specErrors)
        {
            outcome.ShouldReport("jobs[0].interfaces", message);
        }
        outcome.ShouldReport("jobs[1].interfaces", "unexpected argument type: map[string]interface {}");
        outcome.ShouldReport("jobs[2].interfaces", "unexpected argument type: float64");
        outcome.ShouldReport("telemetry.interfaces", "'interfaces': source data must be an array or slice, got string");
    }
}
