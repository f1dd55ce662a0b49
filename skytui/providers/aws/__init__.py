"""Amazon EC2 through boto3; boto3 is imported only when an AWS call is about to be made."""
