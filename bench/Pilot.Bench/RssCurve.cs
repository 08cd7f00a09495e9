using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Pilot.Bench;

/// <summary>
/// Idle RSS over time: every subject runs the same jobs side by side, untouched, and its VmRSS is sampled every
/// <c>every</c> seconds for <c>minutes</c> minutes. A supervisor that allocates while idle, or whose GC never runs,
/// shows a rising curve.
/// </summary>
internal sealed class RssCurve
{
    private readonly List<string> _subjects;
    private readonly List<(double Seconds, double[] MiB)> _samples = [];

    private RssCurve(List<string> subjects) => _subjects = subjects;

    public static async Task<RssCurve> RunAsync(IReadOnlyList<SupervisorSubject> subjects, int jobs, double minutes, int every)
    {
        var curve = new RssCurve([.. subjects.Select(s => s.Name)]);
        var processes = subjects.Select(s => s.Start(SupervisorSubject.SleepJobs(jobs))).ToList();
        try
        {
            var watch = Stopwatch.StartNew();
            var end = TimeSpan.FromMinutes(minutes);
            // Every `every` seconds from 3 s (once start-up is over), and once more at the end.
            for (var next = TimeSpan.FromSeconds(3); ; next += TimeSpan.FromSeconds(every))
            {
                if (next > end)
                {
                    next = end;
                }
                var wait = next - watch.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }
                var sample = processes.Select(p => p.HasExited ? double.NaN : Bench.RssMiB(p.Id)).ToArray();
                curve._samples.Add((watch.Elapsed.TotalSeconds, sample));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{watch.Elapsed.TotalSeconds,6:0}s  {string.Join("  ", sample.Select((m, i) => $"{curve._subjects[i]} {m:0.00} MiB"))}"));
                if (next == end)
                {
                    break;
                }
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                await Bench.StopAsync(process);
                process.Dispose();
            }
        }
        return curve;
    }

    public string ToMarkdown(string machine)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}. VmRSS (MiB) of each supervisor running 10 idle jobs (`sleep 86400`), side by side.");
        text.AppendLine();
        text.AppendLine("| time (s) | " + string.Join(" | ", _subjects) + " |");
        text.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|", _subjects.Count)));
        foreach (var (seconds, mib) in _samples)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {seconds:0} | {string.Join(" | ", mib.Select(m => m.ToString("0.00", CultureInfo.InvariantCulture)))} |"));
        }
        text.AppendLine();
        for (var i = 0; i < _subjects.Count; i++)
        {
            var values = _samples.Select(s => s.MiB[i]).ToList();
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"- {_subjects[i]}: first {values[0]:0.00}, last {values[^1]:0.00}, min {values.Min():0.00}, max {values.Max():0.00} MiB; last − first {values[^1] - values[0]:+0.00;-0.00;0.00} MiB"));
        }
        return text.ToString();
    }

    /// <summary>A line chart of the samples, drawn by gnuplot when installed.</summary>
    public void WriteChart(string png)
    {
        var data = new StringBuilder("seconds\t" + string.Join('\t', _subjects.Select(s => $"\"{s}\"")) + "\n");
        foreach (var (seconds, mib) in _samples)
        {
            data.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{seconds:0}\t{string.Join('\t', mib.Select(m => m.ToString("0.###", CultureInfo.InvariantCulture)))}"));
        }
        var dataFile = Path.ChangeExtension(png, ".dat");
        File.WriteAllText(dataFile, data.ToString());
        Chart.Plot(png, $"""
            set terminal pngcairo size 1000,500 font ",10"
            set output "{png}"
            set title "Idle RSS with 10 jobs over time"
            set xlabel "seconds"
            set ylabel "VmRSS (MiB)"
            set yrange [0:*]
            set key outside right top
            plot for [i=2:{_subjects.Count + 1}] "{dataFile}" using 1:i with linespoints title columnheader(i)
            """);
    }
}
