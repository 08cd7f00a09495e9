namespace Pilot.Supervisor.Jobs;

/// <summary>Pure restart rules, as v3's <c>restartPermitted</c>.</summary>
public static class RestartPolicy
{
    /// <summary>Unlimited (-1) always restarts; otherwise while restarts remain.</summary>
    public static bool RestartPermitted(int restartLimit, int restartsRemain) =>
        restartLimit == Config.JobConfig.UnlimitedRestarts || restartsRemain > 0;
}
