using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Pilot.Bench;

/// <summary>A PNG of the start-up, restart and RSS figures (log scale, one bar per subject), drawn by gnuplot.</summary>
internal static class Chart
{
    private static readonly string[] Metrics =
    [
        "start → first child exec (ms)", "whole run of /bin/true (ms)", "exit → dependent job exec (ms)", "crashing job: exit → next exec (ms)",
        "orphan storm 10,000: last fork → 0 zombies (ms)", "RSS idle, 1 job (MiB)", "RSS idle, 10 jobs (MiB)",
    ];

    public static void Write(ResultTable table, string png)
    {
        var subjects = table.Rows.Select(r => r.Subject).Distinct().ToList();
        var data = new StringBuilder("metric\t" + string.Join('\t', subjects.Select(s => $"\"{s}\"")) + "\n");
        foreach (var metric in Metrics)
        {
            data.Append(CultureInfo.InvariantCulture, $"\"{metric}\"");
            foreach (var subject in subjects)
            {
                var sample = table.Rows.FirstOrDefault(r => r.Metric == metric && r.Subject == subject).Sample;
                data.Append('\t').Append(sample is null ? "NaN" : sample.Median.ToString("0.###", CultureInfo.InvariantCulture));
            }
            data.Append('\n');
        }
        var dataFile = Path.ChangeExtension(png, ".dat");
        File.WriteAllText(dataFile, data.ToString());
        var script = $"""
            set terminal pngcairo size 1400,700 font ",10"
            set output "{png}"
            set title "Pilot beside ContainerPilot, tini, dumb-init, supervisord and s6 (median; lower is better; log scale)"
            set style data histograms
            set style histogram cluster gap 1
            set style fill solid 0.8 border -1
            set logscale y
            set yrange [0.5:*]
            set key outside right top
            set xtics rotate by -15 scale 0
            set datafile missing "NaN"
            plot for [i=2:{subjects.Count + 1}] "{dataFile}" using i:xtic(1) title columnheader(i)
            """;
        Plot(png, script);
    }

    /// <summary>Runs a gnuplot script; says so when gnuplot is missing.</summary>
    public static void Plot(string png, string script)
    {
        try
        {
            using var gnuplot = Process.Start(new ProcessStartInfo("gnuplot") { RedirectStandardInput = true, RedirectStandardError = true })!;
            gnuplot.StandardInput.Write(script);
            gnuplot.StandardInput.Close();
            gnuplot.WaitForExit();
            Console.Error.WriteLine(gnuplot.ExitCode == 0 ? $"chart: {png}" : $"chart: gnuplot failed: {gnuplot.StandardError.ReadToEnd()}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine("chart: gnuplot is not installed (./scripts/install-deps bench)");
        }
    }
}
