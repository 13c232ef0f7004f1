"""The sender's parts: what it claims (`claims`) and what it writes back (`records`)."""
