// Package fakeaws answers, on 127.0.0.1, the AWS calls hookline's Lambda functions make, so a
// real bootstrap binary runs with no network and no account. It is test and bench support:
// cmd/coldstart times cold starts against it, and the AWS rehearsal in infra/ runs the four
// functions against it with the environment, topics, queues and roles of the synthesized stack.
//
// One server speaks every protocol the SDK clients use: SNS (query protocol: topics whose
// subscriptions deliver to SQS queues, raw or in the SNS envelope, and record email and other
// deliveries), SQS (AWS JSON 1.0: visibility timeouts, receive counts, long polls, redrive to a
// dead-letter queue and back with StartMessageMoveTask), Secrets Manager and KMS data keys (AWS
// JSON 1.1), DynamoDB (AWS JSON 1.0), either as an empty table that accepts every write or as a
// recording proxy in front of a real DynamoDB-compatible server (dynalite), and S3's object PUT
// and GET, presigned GETs too (REST, virtual-hosted or path style: s3.go).
//
// Every request is attributed to a caller by the access key id in its SigV4 Credential= (a
// presigned URL's X-Amz-Credential) and turned into the IAM actions and resource ARNs it needs
// (an SNS publish to a KMS-encrypted topic also needs kms:GenerateDataKey and kms:Decrypt on the
// key, as on AWS), with the condition keys the fake can read (a DynamoDB call's
// dynamodb:LeadingKeys). An Authorizer decides each one; a refusal is answered the way AWS
// answers it (AuthorizationError, AccessDeniedException, S3's AccessDenied), so the caller fails
// as it would in the cloud, and Calls lists what happened. Decide evaluates IAM policy
// statements, conditions included, for such an Authorizer; Filter matches Lambda event filter
// patterns; Stream turns the items of a table into DynamoDB Streams records.
package fakeaws
