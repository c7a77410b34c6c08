using Microsoft.Extensions.Diagnostics.HealthChecks;
using Strata.Cluster;

namespace Strata.Server;

/// <summary>
/// Healthy while the node can apply commands; unhealthy for good once a storage failure stopped it. The gRPC
/// health service reports this as SERVING / NOT_SERVING.
/// </summary>
internal sealed class NodeHealthCheck(ClusterNode node) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(node.Failure is { } failure
            ? HealthCheckResult.Unhealthy("the node stopped after a storage failure", failure)
            : HealthCheckResult.Healthy("the node is applying commands"));
}
