namespace Pilot.Supervisor.Jobs;

/// <summary>What a job does when its run has ended (or could not start).</summary>
public enum AfterExit
{
    /// <summary>Wait for the next trigger or interval tick.</summary>
    Wait,
    /// <summary>Start again at once, using one restart.</summary>
    Restart,
    /// <summary>Nothing can start it again: halt.</summary>
    Halt,
}

/// <summary>Pure restart rules, as v3's <c>restartPermitted</c> and its exit handling (reference Part A §2–3).</summary>
public static class RestartPolicy
{
    /// <summary>Unlimited (-1) always restarts; otherwise while restarts remain.</summary>
    public static bool RestartPermitted(int restartLimit, int restartsRemain) =>
        restartLimit == Config.JobConfig.UnlimitedRestarts || restartsRemain > 0;

    /// <summary>
    /// v3's case for the job's own exit: a periodic job ignores it (its ticks run it); else restart while permitted;
    /// else keep waiting while the trigger can still start it; else halt.
    /// </summary>
    public static AfterExit Decide(bool periodic, int restartLimit, int restartsRemain, int startsRemain) =>
        periodic ? AfterExit.Wait
        : RestartPermitted(restartLimit, restartsRemain) ? AfterExit.Restart
        : startsRemain != 0 ? AfterExit.Wait
        : AfterExit.Halt;
}
