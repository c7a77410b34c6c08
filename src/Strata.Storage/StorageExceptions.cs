namespace Strata.Storage;

/// <summary>Stored bytes failed their checksum or could not be decoded. Never returned as data.</summary>
public sealed class CorruptionException(string message) : Exception(message);

/// <summary>The engine could not make a write durable. The node must stop; the engine must not be used again.</summary>
public sealed class StorageFailureException(string message, Exception? inner = null) : Exception(message, inner);
