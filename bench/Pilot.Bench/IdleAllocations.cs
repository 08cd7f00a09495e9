using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Pilot.Api;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Hosting;

namespace Pilot.Bench;

/// <summary>
/// What Pilot allocates while idle: its run path (control plane, supervisor, reaper) hosted in this process under JIT
/// with idle jobs, and <see cref="GC.GetTotalAllocatedBytes(bool)"/> read by a thread that allocates nothing itself,
/// once start-up has settled. Anything allocated in that window is garbage an idle PID 1 makes.
/// </summary>
internal static class IdleAllocations
{
    /// <param name="telemetry">Also a telemetry listener (on a free loopback port), which nobody scrapes.</param>
    public static async Task<string> RunAsync(Scratch scratch, int jobs, bool telemetry, TimeSpan settle, TimeSpan window, TimeSpan every)
    {
        var path = scratch.File("idle.json5");
        var telemetryConfig = telemetry ? "telemetry: { port: 0, interfaces: [\"static:127.0.0.1\"] }, " : "";
        File.WriteAllText(path,
            $"{{ control: {{ socket: \"{scratch.File("idle.sock")}\" }}, logging: {{ level: \"ERROR\" }}, {telemetryConfig}jobs: [ {SupervisorSubject.SleepJobs(jobs)} ] }}");
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        var loaded = ConfigLoader.LoadFile(path, environment);
        using var signals = new SignalRelay();
        var config = loaded.Config ?? throw new InvalidOperationException(string.Join("; ", loaded.Errors));
        var run = Task.Run(() => PilotHost.RunAsync(path, config, signals, devListener: null, CancellationToken.None));
        await Task.Delay(settle);

        var samples = new long[(int)(window / every) + 1];
        var sampler = new Thread(() =>
        {
            for (var i = 0; i < samples.Length; i++)
            {
                if (i > 0)
                {
                    Thread.Sleep(every);
                }
                samples[i] = GC.GetTotalAllocatedBytes(precise: true);
            }
        });
        sampler.Start();
        sampler.Join();

        // An orderly shutdown, as a container runtime would ask for one: SIGTERM to this process, which Pilot handles.
        _ = Kill(Environment.ProcessId, 15);
        await run;

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Bytes allocated by an idle Pilot (JIT, in-process, {jobs} idle jobs{(telemetry ? ", telemetry listener not scraped" : "")}), per {every.TotalSeconds:0} s, after {settle.TotalSeconds:0} s of settling:");
        text.AppendLine();
        text.AppendLine("| interval | bytes |");
        text.AppendLine("|---|---|");
        for (var i = 1; i < samples.Length; i++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {i} | {samples[i] - samples[i - 1]} |");
        }
        var total = samples[^1] - samples[0];
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Total {total} bytes in {window.TotalSeconds:0} s: {total / window.TotalSeconds:0.0} bytes/s.");
        return text.ToString();
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
