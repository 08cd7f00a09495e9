using System.Globalization;

namespace Pilot.ConsulTestAgent;

/// <summary><c>dotnet run -- --port 8500</c> or <c>--http-addr 127.0.0.1:8500</c>: runs the agent until Ctrl+C.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var options = new ConsulTestAgentOptions { Port = 8500 };
        for (var i = 0; i < args.Length; i++)
        {
            var flag = args[i].TrimStart('-');
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (flag)
            {
                case "port" when value is not null:
                    options = options with { Port = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "http-addr" when value is not null:
                    var colon = value.LastIndexOf(':');
                    options = options with
                    {
                        Host = value[..colon],
                        Port = int.Parse(value[(colon + 1)..], CultureInfo.InvariantCulture),
                    };
                    i++;
                    break;
                case "token" when value is not null:
                    options = options with { RequiredToken = value };
                    i++;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"usage: Pilot.ConsulTestAgent [--port N | --http-addr HOST:PORT] [--token T]; bad argument {args[i]}");
                    return 2;
            }
        }
        await using var agent = await ConsulTestAgent.StartAsync(options);
        Console.WriteLine($"consul test agent listening on {agent.HttpAddress}");
        var done = new TaskCompletionSource();
        void Stop(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            done.TrySetResult();
        }
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
        await done.Task;
        return 0;
    }
}
